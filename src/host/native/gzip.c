// gzip(buf, level) -> Promise<Buffer>: buf as one whole gzip member, made by
// libdeflate on the libuv threadpool. Push compresses a layer as 1 MiB
// blocks in parallel (src/engine/images/pgzip.ts); for whole blocks
// libdeflate is about 1.8x faster than zlib at the same level, and its
// output a little smaller.
#include <node_api.h>
#include <libdeflate.h>
#include <stdlib.h>

struct job {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref; // keeps the input alive while a pool thread reads it
  const void *input;
  size_t input_len;
  int level;
  void *output;
  size_t output_len; // 0: failed
};

static void execute(napi_env env, void *data) {
  struct job *j = data;
  // One compressor a call: allocating it costs far less than a block's work.
  struct libdeflate_compressor *c = libdeflate_alloc_compressor(j->level);
  if (!c) return;
  size_t bound = libdeflate_gzip_compress_bound(c, j->input_len);
  j->output = malloc(bound);
  if (j->output) j->output_len = libdeflate_gzip_compress(c, j->input, j->input_len, j->output, bound);
  libdeflate_free_compressor(c);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct job *j = data;
  napi_value result;
  if (status == napi_ok && j->output_len > 0) {
    void *copy;
    napi_create_buffer_copy(env, j->output_len, j->output, &copy, &result);
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "gzip: out of memory", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  }
  napi_delete_reference(env, j->input_ref);
  napi_delete_async_work(env, j->work);
  free(j->output);
  free(j);
}

static napi_value js_gzip(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name, promise;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_buffer = false;
  if (argc == 2) napi_is_buffer(env, argv[0], &is_buffer);
  int32_t level = -1;
  if (argc == 2) napi_get_value_int32(env, argv[1], &level);
  if (!is_buffer || level < 0 || level > 12) {
    napi_throw_type_error(env, NULL, "gzip(buffer, level 0..12)");
    return NULL;
  }
  struct job *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "gzip: out of memory");
    return NULL;
  }
  j->level = level;
  napi_get_buffer_info(env, argv[0], (void **)&j->input, &j->input_len);
  napi_create_reference(env, argv[0], 1, &j->input_ref);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "berth:gzip", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"gzip", 0, js_gzip, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, 1, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

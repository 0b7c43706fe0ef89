// Image references: one grammar (distribution/reference's), read by the
// engine (parseReference: says which part is wrong) and by the CLI
// (parseNormalizedNamed: Docker's own messages).
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { BerthError } from '../../../src/errors';
import {
  familiarName,
  familiarString,
  fullName,
  isImageIdLike,
  parseNormalizedNamed,
  parseReference,
  refString,
  withDefaultTag,
} from '../../../src/oci/reference';

const HEX = 'a'.repeat(64);

function invalid(input: string, msg?: RegExp) {
  assert.throws(
    () => parseReference(input),
    (err: unknown) => {
      assert.ok(err instanceof BerthError, `expected BerthError for ${JSON.stringify(input)}`);
      assert.equal(err.kind, 'InvalidArgument');
      assert.match(err.message, /^invalid reference format/);
      if (msg) assert.match(err.message, msg);
      return true;
    },
  );
}

test('a bare name is normalized to docker.io/library', () => {
  const r = parseReference('busybox');
  assert.deepEqual(r, { domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: undefined });
  assert.equal(fullName(r), 'docker.io/library/busybox');
  assert.equal(refString(r), 'docker.io/library/busybox');
  assert.equal(refString(withDefaultTag(r)), 'docker.io/library/busybox:latest');
  assert.equal(familiarString(withDefaultTag(r)), 'busybox:latest');
  assert.equal(familiarName(r), 'busybox');
});

test('user repositories on Docker Hub keep their path', () => {
  const r = parseReference('someuser/app:1.2');
  assert.equal(r.domain, 'docker.io');
  assert.equal(r.path, 'someuser/app');
  assert.equal(r.tag, '1.2');
  assert.equal(familiarString(r), 'someuser/app:1.2');
  assert.equal(refString(r), 'docker.io/someuser/app:1.2');
});

test('docker.io and index.docker.io prefixes are the same registry', () => {
  for (const s of ['docker.io/busybox', 'docker.io/library/busybox', 'index.docker.io/library/busybox', 'index.docker.io/busybox']) {
    const r = parseReference(s);
    assert.equal(fullName(r), 'docker.io/library/busybox', s);
    assert.equal(familiarString(r), 'busybox', s);
  }
});

test('localhost:5000 registry with a nested path', () => {
  const r = parseReference('localhost:5000/a/b');
  assert.equal(r.domain, 'localhost:5000');
  assert.equal(r.path, 'a/b');
  assert.equal(r.tag, undefined);
  assert.equal(familiarString(r), 'localhost:5000/a/b');
  assert.equal(refString(withDefaultTag(r)), 'localhost:5000/a/b:latest');

  const t = parseReference('localhost:5000/a/b:1.0');
  assert.equal(t.domain, 'localhost:5000');
  assert.equal(t.path, 'a/b');
  assert.equal(t.tag, '1.0');
});

test('"localhost" without a port is a registry, not a Hub user', () => {
  const r = parseReference('localhost/foo');
  assert.equal(r.domain, 'localhost');
  assert.equal(r.path, 'foo');
  assert.equal(familiarString(r), 'localhost/foo');
});

test('a dotted first component is a registry domain', () => {
  const r = parseReference('registry.example.com/x:tag');
  assert.deepEqual(r, { domain: 'registry.example.com', path: 'x', tag: 'tag', digest: undefined });
  assert.equal(familiarString(r), 'registry.example.com/x:tag');
  assert.equal(refString(r), 'registry.example.com/x:tag');
});

test('an IPv6 registry with a port', () => {
  const r = parseReference('[::1]:5000/foo:bar');
  assert.equal(r.domain, '[::1]:5000');
  assert.equal(r.path, 'foo');
  assert.equal(r.tag, 'bar');
});

test('digests, with and without a tag', () => {
  const d = `sha256:${HEX}`;
  const r = parseReference(`busybox@${d}`);
  assert.equal(r.digest, d);
  assert.equal(r.tag, undefined);
  // A digest reference gets no default tag.
  assert.equal(withDefaultTag(r), r);
  assert.equal(refString(withDefaultTag(r)), `docker.io/library/busybox@${d}`);
  assert.equal(familiarString(r), `busybox@${d}`);

  const both = parseReference(`localhost:5000/a/b:1.36@${d}`);
  assert.equal(both.domain, 'localhost:5000');
  assert.equal(both.path, 'a/b');
  assert.equal(both.tag, '1.36');
  assert.equal(both.digest, d);
  assert.equal(refString(both), `localhost:5000/a/b:1.36@${d}`);
});

test('withDefaultTag keeps an explicit tag and does not mutate its input', () => {
  const r = parseReference('busybox:1.36');
  assert.equal(withDefaultTag(r).tag, '1.36');
  const bare = parseReference('busybox');
  const tagged = withDefaultTag(bare);
  assert.equal(tagged.tag, 'latest');
  assert.equal(bare.tag, undefined);
});

test('separators allowed inside path components', () => {
  for (const s of ['a.b/c_d', 'a__b/c-d', 'a---b', 'x/y/z/w']) assert.doesNotThrow(() => parseReference(s), s);
});

test('empty reference is rejected', () => {
  invalid('', /empty reference/);
});

test('uppercase repository names are rejected', () => {
  invalid('Busybox', /must be lowercase/);
  invalid('someuser/MyApp', /must be lowercase/);
  invalid('localhost:5000/A/b', /must be lowercase/);
});

test('bad tags are rejected', () => {
  invalid('busybox:', /invalid tag/);
  invalid('busybox:bad$tag', /invalid tag/);
  invalid('busybox:.dot', /invalid tag/);
  invalid(`busybox:${'a'.repeat(129)}`, /invalid tag/);
  // 128 characters is the maximum.
  assert.equal(parseReference(`busybox:${'a'.repeat(128)}`).tag, 'a'.repeat(128));
});

test('bad digests are rejected', () => {
  invalid('busybox@sha256:abc', /invalid checksum digest length/);
  invalid(`busybox@sha256:${'A'.repeat(64)}`, /invalid checksum digest length/);
  invalid('busybox@notadigest', /invalid digest/);
  invalid('busybox@', /invalid digest/);
});

test('malformed paths are rejected', () => {
  invalid('a//b');
  invalid('foo/');
  invalid(':tag');
  invalid('-foo');
  invalid('foo-');
  invalid('foo..bar');
  invalid('foo bar');
  invalid('bad_domain.com:port/foo', /invalid domain/);
});

test('names longer than 255 characters are rejected', () => {
  invalid('a'.repeat(256), /must not be more than 255 characters/);
  invalid(`example.com/${'a'.repeat(250)}`, /must not be more than 255 characters/);
  invalid('a'.repeat(400), /must not be more than 255 characters/);
  // A name just under the limit is fine (docker.io/ + 245 = 255).
  const path = `x/${'a'.repeat(243)}`;
  assert.equal(parseReference(path).path, path);
});

test('isImageIdLike', () => {
  assert.equal(isImageIdLike(`sha256:${HEX}`), true);
  assert.equal(isImageIdLike('abc123'), true);
  assert.equal(isImageIdLike('busybox'), false);
  assert.equal(isImageIdLike(`${HEX}0`), false);
});

describe('image references (distribution/reference)', () => {
  const ok = (s: string, full: string) => it(`${s} -> ${full}`, () => assert.equal(refString(parseNormalizedNamed(s)), full));
  ok('busybox', 'docker.io/library/busybox');
  ok('busybox:1.36', 'docker.io/library/busybox:1.36');
  ok('user/app', 'docker.io/user/app');
  ok('index.docker.io/library/busybox:x', 'docker.io/library/busybox:x');
  ok('localhost/app', 'localhost/app');
  ok('localhost:5000/a/b:v1', 'localhost:5000/a/b:v1');
  ok('127.0.0.1:5000/x', '127.0.0.1:5000/x');
  ok('Registry.Example.com/app', 'Registry.Example.com/app');
  ok(`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`);
  ok(`busybox:1@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'a'.repeat(64)}`);

  const bad = (s: string, msg: string) => it(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseNormalizedNamed(s), { message: msg }));
  bad('Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase');
  bad('a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`);
  bad('busybox:', 'invalid reference format');
  bad('-x', 'invalid reference format');
  bad('', 'invalid reference format');
  bad('busybox@sha256:abc', 'invalid reference format');
  bad(`busybox@sha256:${'a'.repeat(40)}`, 'invalid checksum digest length');
  bad('a:b:c', 'invalid reference format');

  it('prints familiar names', () => {
    assert.equal(familiarString(parseNormalizedNamed('docker.io/library/busybox:1')), 'busybox:1');
    assert.equal(familiarString(parseNormalizedNamed('docker.io/library/a/b')), 'library/a/b');
    assert.equal(familiarString(parseNormalizedNamed('localhost:5000/x')), 'localhost:5000/x');
  });
});

describe('one grammar, two front doors', () => {
  it('the engine takes a bare 64-hex image id as a name; the CLI refuses it as docker does', () => {
    const hex = 'b'.repeat(64);
    assert.equal(fullName(parseReference(hex)), `docker.io/library/${hex}`);
    assert.throws(() => parseNormalizedNamed(hex), /cannot specify 64-byte hexadecimal strings/);
  });

  it('both refuse what Docker refuses, each error a 400 (InvalidArgument)', () => {
    for (const s of ['Busybox', 'busybox:', 'a//b', `busybox@md5:${'a'.repeat(32)}`, `busybox@sha256:${'a'.repeat(40)}`, 'bad_domain.com:port/foo']) {
      for (const parse of [parseReference, parseNormalizedNamed]) {
        assert.throws(() => parse(s), (err: unknown) => err instanceof BerthError && err.kind === 'InvalidArgument', `${parse.name}(${s})`);
      }
    }
  });

  it('the engine says which part is wrong where Docker says only "invalid reference format"', () => {
    assert.throws(() => parseReference(`busybox@md5:${'a'.repeat(32)}`), { message: 'invalid reference format: unsupported digest algorithm' });
    assert.throws(() => parseReference('busybox:bad$'), { message: 'invalid reference format: invalid tag in "busybox:bad$"' });
    assert.throws(() => parseReference('a//b'), { message: 'invalid reference format: "a//b"' });
    assert.throws(() => parseReference('Busybox'), { message: 'invalid reference format: repository name (library/Busybox) must be lowercase' });
  });

  it('both give the same reference for what they accept', () => {
    for (const s of ['busybox', 'busybox:1.36', 'user/app', 'localhost:5000/a/b:v1', '[::1]:5000/foo:bar', `busybox:1@sha256:${'a'.repeat(64)}`]) {
      assert.deepEqual(parseReference(s), parseNormalizedNamed(s), s);
    }
  });
});

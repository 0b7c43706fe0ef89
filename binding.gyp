{
  "targets": [
    {
      "target_name": "berth_host",
      "sources": ["src/host/native/host.c", "src/host/native/untar.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-larchive"]
    }
  ]
}

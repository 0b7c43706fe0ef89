{
  "targets": [
    {
      "target_name": "berth_host",
      "sources": ["src/host/native/host.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}

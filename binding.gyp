{
  "targets": [
    {
      "target_name": "berth_host",
      "sources": ["src/host/native/host.c"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "berth_gzip",
      "sources": ["src/host/native/gzip.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-ldeflate"]
    },
    {
      "target_name": "berth-untar",
      "type": "executable",
      "sources": ["src/host/native/untar-main.c", "src/host/native/untar.c", "src/host/native/binds.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-larchive"]
    },
    {
      "target_name": "berth-exec",
      "type": "executable",
      "sources": ["src/host/native/exec-main.c", "src/host/native/exec-seccomp.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-Wl,-Bstatic", "-lseccomp", "-ljansson", "-Wl,-Bdynamic"]
    },
    {
      "target_name": "berth-cp",
      "type": "executable",
      "sources": ["src/host/native/cp-main.c", "src/host/native/binds.c"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "berth-logger",
      "type": "executable",
      "sources": ["src/host/native/logger-main.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-lz"]
    }
  ]
}

#!/usr/bin/env python3
# Runs a command on a real terminal (a pty pair), the way a person at a
# terminal runs the docker CLI, for the TTY integration tests.
#
#   pty-run.py ROWS COLS CMD [ARG...]
#
# stdin carries one JSON object per line: {"in": "<text>"} is typed into the
# terminal (control characters included), {"size": [rows, cols]} resizes it
# (the kernel sends SIGWINCH to the command, as a terminal window would),
# {"signal": N} sends signal N to the command.
# Everything the terminal shows is copied to stdout. The exit status is the
# command's (128+N when a signal N ended it).
import fcntl, json, os, pty, select, signal, struct, sys, termios

def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

rows, cols, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, master = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
set_size(master, rows, cols)
os.kill(pid, signal.SIGWINCH)

ctl = 0
pending = b''
ctl_open = True
status = None
while True:
    fds = [master] + ([ctl] if ctl_open else [])
    ready, _, _ = select.select(fds, [], [], 0.05)
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if data:
            os.write(1, data)
        elif status is not None:
            break
    if ctl_open and ctl in ready:
        chunk = os.read(ctl, 65536)
        if not chunk:
            ctl_open = False
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            if not line.strip():
                continue
            msg = json.loads(line)
            if 'in' in msg:
                os.write(master, msg['in'].encode('latin-1'))
            if 'size' in msg:
                set_size(master, msg['size'][0], msg['size'][1])
            if 'signal' in msg:
                os.kill(pid, msg['signal'])
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            # Drain what the terminal still holds, then stop.
            while select.select([master], [], [], 0.2)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                os.write(1, data)
            break
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)

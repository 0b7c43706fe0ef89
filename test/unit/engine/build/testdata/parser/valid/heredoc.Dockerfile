FROM busybox
RUN <<EOF
echo hello
echo $HOME
EOF
RUN <<-"EOT" cat > /x
	quoted, not expanded: $HOME
	EOT
COPY <<A <<B /dest/
first
A
second
B
RUN python3 <<PY && echo done
print(1)
PY

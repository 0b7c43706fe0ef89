FROM busybox
COPY --frm=x a b

FROM busybox
ENV ONLY

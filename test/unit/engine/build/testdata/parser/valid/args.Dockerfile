ARG BASE=busybox
ARG TAG
FROM ${BASE}:${TAG:-latest}
ARG A=1 B
EXPOSE 80/tcp 443
VOLUME ["/data", "/logs"]
VOLUME /a /b
ONBUILD RUN echo onbuild
SHELL ["/bin/sh", "-ec"]
USER nobody:nogroup
WORKDIR /app
STOPSIGNAL SIGTERM

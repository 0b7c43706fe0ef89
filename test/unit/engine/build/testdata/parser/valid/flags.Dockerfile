FROM --platform=linux/amd64 busybox AS Build
COPY --from=build --chown=1:2 --chmod=755 src/ /dst/
RUN --mount=type=cache,target=/root/.cache --network=none echo hi
ADD --checksum=sha256:abc https://example.com/x /x
HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/
HEALTHCHECK NONE

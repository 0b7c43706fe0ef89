# syntax=docker/dockerfile:1
# escape=`
FROM busybox
RUN echo one `
  two
COPY a\b c\d

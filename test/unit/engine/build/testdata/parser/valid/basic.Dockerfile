FROM busybox
# a comment
RUN echo hello \
    world
RUN ["echo", "exec", "form"]
CMD ["sh"]
ENTRYPOINT /bin/sh -c

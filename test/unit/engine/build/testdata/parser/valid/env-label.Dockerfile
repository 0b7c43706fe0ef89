FROM busybox
ENV A=1 B="two words" C=three\ four
ENV LEGACY value with spaces
LABEL "com.example.vendor"="ACME Inc" version=1.0
LABEL description="This is \
multi-line"

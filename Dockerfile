# The production image: a static binary on distroless, run as a numeric
# non-root user. Build with `make image` (VERSION is stamped into the binary).
# The build command below must stay identical to the Makefile's `build`
# target; deploy/container_test.go checks it.

FROM golang:1.26.8 AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $(go list -m)/platform/buildinfo.Version=${VERSION}" -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
# nonroot is 65532 in distroless; numeric so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/app"]
CMD ["serve"]

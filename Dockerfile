# Multi-stage build: compile with cgo against Tesseract, ship a slim Debian
# with the Tesseract runtime and its Spanish and English data.
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      libtesseract-dev libleptonica-dev g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/constancia ./cmd/constancia

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng ca-certificates && \
    rm -rf /var/lib/apt/lists/* && useradd -r -u 10001 constancia
COPY --from=build /out/constancia /usr/local/bin/constancia
ENV OMP_THREAD_LIMIT=1
USER constancia
WORKDIR /var/lib/constancia
ENTRYPOINT ["constancia"]
CMD ["scan", "--help"]

/**
 * Compresses HTTP responses (gzip or deflate, as the client's Accept-Encoding allows) with the
 * server adapter's own plugin — but only its response half, and never for streams: SSE and
 * multipart (@defer/@stream) responses must reach the client as each part is written, which a
 * compressor's buffering would hold back. Compressed request bodies are not accepted (they
 * would slip past MAX_REQUEST_BYTES).
 */
import { useContentEncoding } from "@whatwg-node/server";
import type { Plugin } from "graphql-yoga";

const STREAMING = /^(text\/event-stream|multipart\/)/i;

export function useCompression(): Plugin {
  const { onResponse } = useContentEncoding<Record<string, unknown>>();
  return {
    onResponse(payload) {
      const type = payload.response.headers.get("content-type") ?? "";
      if (STREAMING.test(type)) return;
      // The adapter matches encodings literally: normalise "gzip, br" and drop q-values.
      const accepted = payload.request.headers.get("accept-encoding");
      if (!accepted) return;
      const encodings = accepted.split(",").map((e) => e.split(";")[0]!.trim()).filter((e) => e === "gzip" || e === "deflate");
      if (encodings.length === 0) return;
      const request = new Proxy(payload.request, {
        get: (target, key) => (key === "headers" ? new Headers({ "accept-encoding": encodings.join(",") }) : Reflect.get(target, key, target)),
      });
      return onResponse?.({ ...payload, request } as never);
    },
  };
}

/**
 * Compresses HTTP responses (gzip or deflate, as the client's Accept-Encoding allows) with the
 * server adapter's own plugin — but only its response half, and never for streams: SSE and
 * multipart (@defer/@stream) responses must reach the client as each part is written, which a
 * compressor's buffering would hold back. Compressed request bodies are not accepted (they
 * would slip past MAX_REQUEST_BYTES). Bodies under COMPRESS_MIN_BYTES go out as they are: for
 * the agent hot path's small answers, gzip cost more CPU than the bytes it saved (it was the
 * largest single cost of a trivial request in the claim benchmark's profile).
 */
import { useContentEncoding } from "@whatwg-node/server";
import type { Plugin } from "graphql-yoga";

const STREAMING = /^(text\/event-stream|multipart\/)/i;

/** Smallest body worth compressing (the threshold Express's compression middleware uses too). */
export const COMPRESS_MIN_BYTES = 1024;

export function useCompression(): Plugin {
  const { onResponse } = useContentEncoding<Record<string, unknown>>();
  return {
    onResponse(payload) {
      const type = payload.response.headers.get("content-type") ?? "";
      if (STREAMING.test(type)) return;
      const length = Number(payload.response.headers.get("content-length") ?? Number.NaN);
      if (length < COMPRESS_MIN_BYTES) return;
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

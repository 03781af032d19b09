import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { fileTypeOf, formatSize, refusal, sendFile, uploadForm, Uploads, type UploadRequest, type UploadResult } from "./upload";

const bytes = (...b: number[]) => new Uint8Array([...b, ...new Array(16).fill(0)].slice(0, 16));

describe("the upload form", () => {
  it("puts the fields first and the file last", () => {
    const f = uploadForm({ file: new Blob(["x"]), name: "a.txt", conversationId: "c1", clientMessageId: "m1", fileType: "document", caption: "see" });
    expect([...f.keys()]).toEqual(["conversationId", "fileType", "clientMessageId", "caption", "file"]);
    expect((f.get("file") as File).name).toBe("a.txt");
  });

  it("sends it with the bearer token in a header, never in the URL, and reports progress", async () => {
    const seen: Record<string, unknown> = {};
    class FakeXHR {
      status = 0;
      responseText = "";
      withCredentials = false;
      upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      onabort: (() => void) | null = null;
      headers: Record<string, string> = {};
      open(method: string, url: string) {
        seen.method = method;
        seen.url = url;
      }
      setRequestHeader(k: string, v: string) {
        this.headers[k] = v;
        seen.headers = this.headers;
      }
      send(body: FormData) {
        seen.body = [...body.keys()];
        this.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 });
        this.status = 201;
        this.responseText = JSON.stringify({ seq: 7, messageId: "m", attachment: { id: "a" } });
        this.onload?.();
      }
      abort() {}
    }
    const progress: number[] = [];
    const h = sendFile(
      { file: new Blob(["hello"]), name: "h.txt", conversationId: "c", clientMessageId: "k", fileType: "document", token: "pv_secret", onProgress: (s) => progress.push(s) },
      FakeXHR as never,
    );
    const r = await h.done;
    expect(r.seq).toBe(7);
    expect(seen.url).toBe("/api/files/upload");
    expect(String(seen.url)).not.toContain("pv_");
    expect((seen.headers as Record<string, string>).Authorization).toBe("Bearer pv_secret");
    expect(seen.body).toEqual(["conversationId", "fileType", "clientMessageId", "file"]);
    expect(progress).toEqual([5]);
  });
});

describe("fileTypeOf", () => {
  it.each([
    ["png", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), "image"],
    ["jpeg", bytes(0xff, 0xd8, 0xff, 0xe0), "image"],
    ["gif", bytes(0x47, 0x49, 0x46, 0x38, 0x39, 0x61), "image"],
    ["webp", bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50), "image"],
    ["riff but wav", bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x41, 0x56, 0x45), "document"],
    ["pdf", bytes(0x25, 0x50, 0x44, 0x46), "document"],
    ["svg text", new TextEncoder().encode("<svg xmlns="), "document"],
    ["empty", new Uint8Array(), "document"],
  ])("%s", (_n, head, want) => expect(fileTypeOf(head)).toBe(want));
});

describe("refusal", () => {
  it.each([
    [new ApiError(413, "too_large", "The file is larger than 25 MiB."), "too_large"],
    [new ApiError(413, "too_large", "You have used your upload quota of 100 MiB."), "quota"],
    [new ApiError(413, "too_large", "The file is larger than what is left of your upload quota (1 MiB of 100 MiB)."), "quota"],
    [new ApiError(415, "invalid", "SVG images are not accepted."), "type"],
    [new ApiError(409, "conflict", "The conversation is closed."), "closed"],
    [new ApiError(0, "network", "x"), "network"],
    [new ApiError(400, "invalid", "x"), "other"],
    [new Error("x"), "other"],
  ])("%s", (e, want) => expect(refusal(e)).toBe(want));
});

it("formatSize", () => {
  expect([formatSize(12), formatSize(2048), formatSize(2.5 * 1024 * 1024), formatSize(30 * 1024 * 1024)]).toEqual(["12 bytes", "2 KB", "2.5 MB", "30 MB"]);
});

describe("Uploads", () => {
  function setup() {
    const calls: { r: UploadRequest; resolve: (v: UploadResult) => void; reject: (e: ApiError) => void; aborted: boolean }[] = [];
    let changes = 0;
    const u = new Uploads({
      token: () => "pv_t",
      onChange: () => changes++,
      createURL: () => "blob:preview",
      revokeURL: () => {},
      send: (r) => {
        const call = { r, resolve: (_: UploadResult) => {}, reject: (_: ApiError) => {}, aborted: false };
        const done = new Promise<UploadResult>((res, rej) => {
          call.resolve = res;
          call.reject = rej;
        });
        calls.push(call);
        return { done, abort: () => ((call.aborted = true), call.reject(new ApiError(0, "aborted", ""))) };
      },
    });
    return { u, calls, changes: () => changes };
  }
  const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2])], "p.png", { type: "image/png" });
  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("shows a file as pending until the timeline has it, with progress", async () => {
    const { u, calls } = setup();
    await u.add("c1", png);
    expect(calls).toHaveLength(1);
    expect(calls[0].r.fileType).toBe("image");
    expect(calls[0].r.token).toBe("pv_t");
    const [p] = u.pending("c1");
    expect(p).toMatchObject({ name: "p.png", size: 10, sent: 0, preview: "blob:preview" });
    calls[0].r.onProgress?.(4, 10);
    expect(u.pending("c1")[0].sent).toBe(4);
    calls[0].resolve({ seq: 3 } as UploadResult);
    await tick();
    expect(u.pending("c1")[0].seq).toBe(3);
    const id = p.clientMessageId;
    expect(u.pending("c1", (x) => x === id)).toEqual([]);
    u.settle((x) => x === id);
    expect(u.pending("c1")).toEqual([]);
    expect(u.pending("other")).toEqual([]);
  });

  it("keeps a refused file with its error; a retry reuses its clientMessageId", async () => {
    const { u, calls } = setup();
    await u.add("c1", new File(["text"], "a.txt"));
    expect(calls[0].r.fileType).toBe("document");
    calls[0].reject(new ApiError(0, "network", "cut"));
    await tick();
    const [p] = u.pending("c1");
    expect(p.error?.code).toBe("network");
    u.retry(p.clientMessageId);
    expect(calls).toHaveLength(2);
    expect(calls[1].r.clientMessageId).toBe(calls[0].r.clientMessageId);
    expect(u.pending("c1")[0].error).toBeUndefined();
  });

  it("stops a file on its way when removed", async () => {
    const { u, calls } = setup();
    await u.add("c1", png);
    u.remove(u.pending("c1")[0].clientMessageId);
    expect(calls[0].aborted).toBe(true);
    await tick();
    expect(u.pending("c1")).toEqual([]);
  });
});

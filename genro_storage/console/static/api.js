// The console's JSON API, with the CSRF double-submit header on every state change.

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export function csrfHeaders() {
  return { "X-CSRF-Token": cookie("genro_csrf") };
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(response) {
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

export async function get(endpoint, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== ""));
  return answer(await fetch(`/api/${endpoint}?${query}`, { credentials: "same-origin" }));
}

export async function post(endpoint, body) {
  return answer(
    await fetch(`/api/${endpoint}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", ...csrfHeaders() },
      body: JSON.stringify(body),
    }),
  );
}

// Upload one file as the raw request body (streamed by the server to the mount), with
// progress events; resolves to the server's JSON, rejects with an ApiError.
export function upload(mount, path, file, overwrite, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const query = new URLSearchParams({ mount, path, overwrite: overwrite ? "1" : "0" });
    xhr.open("PUT", `/api/upload?${query}`);
    const headers = csrfHeaders();
    for (const name in headers) xhr.setRequestHeader(name, headers[name]);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.total || file.size);
    xhr.onload = () => {
      let data = {};
      try {
        data = JSON.parse(xhr.responseText || "{}");
      } catch {
        data = { error: xhr.responseText };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data.error || xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, "network error"));
    xhr.send(file);
  });
}

export function fileUrl(mount, path, extra = {}) {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  const query = new URLSearchParams(extra).toString();
  return `/files/${encodeURIComponent(mount)}/${encoded}${query ? "?" + query : ""}`;
}

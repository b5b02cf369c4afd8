// Sizes, dates, file kinds and their inline SVG icons (no network, no build step).

const SIZE = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

export function humanSize(bytes) {
  if (bytes == null) return "";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${SIZE.format(value)} ${UNITS[unit]}`;
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function localTime(seconds) {
  if (seconds == null) return "";
  return DATE.format(new Date(seconds * 1000));
}

export function isoTime(seconds) {
  return seconds == null ? "" : new Date(seconds * 1000).toISOString();
}

const CODE = /\.(py|js|mjs|ts|tsx|jsx|css|scss|html?|sh|bash|rb|go|rs|java|c|h|cpp|hpp|php|sql|toml|ini|cfg|ya?ml|xml|json|md|rst|txt|log|csv|tsv)$/i;
const ARCHIVE = /\.(zip|tar|gz|tgz|bz2|xz|7z|rar|zst)$/i;

export function kindOf(entry) {
  if (entry.is_dir) return "folder";
  const type = entry.type || "";
  if (type === "application/pdf") return "pdf";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  if (ARCHIVE.test(entry.name)) return "archive";
  if (/\.(csv|tsv|json|parquet|xlsx?)$/i.test(entry.name)) return "data";
  if (CODE.test(entry.name) || type.startsWith("text/")) {
    return /\.(txt|md|rst|log)$/i.test(entry.name) || type === "text/plain" ? "text" : "code";
  }
  return "file";
}

export function previewable(entry) {
  const kind = kindOf(entry);
  return ["image", "pdf", "audio", "video", "text", "code", "data"].includes(kind);
}

const PAGE = '<path d="M6 2h8l4 4v16H6z" fill="#fff" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/><path d="M14 2v4h4" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>';

const ICONS = {
  folder: '<path d="M2.5 6.5a2 2 0 0 1 2-2h4.2l2 2.2h8.8a2 2 0 0 1 2 2V18a2 2 0 0 1-2 2h-15a2 2 0 0 1-2-2z" fill="#f6c453" stroke="#b7860b" stroke-width="1.2"/>',
  file: PAGE,
  text: PAGE + '<path d="M9 11h6M9 14h6M9 17h4" stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/>',
  code: PAGE + '<path d="M10.5 11.5 8.5 14l2 2.5M13.5 11.5l2 2.5-2 2.5" fill="none" stroke="#2f5fc4" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"/>',
  data: PAGE + '<path d="M8.5 11h7v7h-7zM8.5 14.5h7M12 11v7" fill="none" stroke="#1d8a4e" stroke-width="1.3"/>',
  image: '<rect x="3" y="4" width="18" height="16" rx="2" fill="#fff" stroke="currentColor" stroke-width="1.5"/><circle cx="9" cy="9.5" r="1.8" fill="#e39b12"/><path d="m4.5 18 5-5.5 3.5 3.5 2.5-2.5 4 4.5z" fill="#3aa76d"/>',
  pdf: PAGE + '<rect x="7.5" y="12" width="9" height="5.5" rx="1" fill="#d93025"/><path d="M9.2 16v-2.6h1a.8.8 0 0 1 0 1.6h-1M12.2 16v-2.6h.7a1.3 1.3 0 0 1 0 2.6zM15.4 13.4h-1.2V16M14.2 14.7h1" fill="none" stroke="#fff" stroke-width=".8"/>',
  audio: PAGE + '<path d="M10.5 17.5V11l5-1.2v6" fill="none" stroke="#8e44ad" stroke-width="1.4"/><circle cx="9.5" cy="17.5" r="1.4" fill="#8e44ad"/><circle cx="14.5" cy="16" r="1.4" fill="#8e44ad"/>',
  video: '<rect x="3" y="5" width="18" height="14" rx="2" fill="#fff" stroke="currentColor" stroke-width="1.5"/><path d="m10 9 5 3-5 3z" fill="#c0392b"/>',
  archive: PAGE + '<path d="M11 3v2h2v2h-2v2h2v2h-2v2" stroke="#7f6a2d" stroke-width="1.3" fill="none"/><rect x="10.2" y="13" width="3.6" height="3.5" rx=".8" fill="#7f6a2d"/>',
  upload: '<path d="M12 16V5m0 0-4.5 4.5M12 5l4.5 4.5M5 19h14" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  download: '<path d="M12 5v11m0 0-4.5-4.5M12 16l4.5-4.5M5 19h14" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  "folder-plus": '<path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M12 10v6m-3-3h6" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>',
  copy: '<rect x="8" y="8" width="12" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" fill="none" stroke="currentColor" stroke-width="1.8"/>',
  eye: '<path d="M2 12s3.6-6.5 10-6.5S22 12 22 12s-3.6 6.5-10 6.5S2 12 2 12z" fill="none" stroke="currentColor" stroke-width="1.8"/><circle cx="12" cy="12" r="3" fill="none" stroke="currentColor" stroke-width="1.8"/>',
  pencil: '<path d="M4 20h4L19 9l-4-4L4 16z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/>',
  link: '<path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>',
  history: '<path d="M4 12a8 8 0 1 0 2.3-5.7M4 4v4h4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/><path d="M12 8v4l3 2" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>',
  trash: '<path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/>',
  local: '<rect x="3" y="5" width="18" height="14" rx="2" fill="none" stroke="currentColor" stroke-width="1.8"/><circle cx="17" cy="15" r="1.3" fill="currentColor"/>',
  memory: '<rect x="4" y="7" width="16" height="10" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M8 7V4M12 7V4M16 7V4M8 20v-3M12 20v-3M16 20v-3" stroke="currentColor" stroke-width="1.6"/>',
  cloud: '<path d="M7 18a4.5 4.5 0 0 1-.6-9A6 6 0 0 1 18 8.5a4.8 4.8 0 0 1-.5 9.5z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/>',
  lock: '<rect x="5" y="11" width="14" height="9" rx="2" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M8 11V8a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" stroke-width="1.8"/>',
};

export function icon(name, size = 20) {
  const body = ICONS[name] || ICONS.file;
  return `<svg class="icon icon-${name}" viewBox="0 0 24 24" width="${size}" height="${size}" aria-hidden="true" focusable="false">${body}</svg>`;
}

export function mountIcon(type) {
  if (type === "file" || type === "local") return icon("local", 18);
  if (type === "memory") return icon("memory", 18);
  return icon("cloud", 18);
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

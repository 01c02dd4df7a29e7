// Building the page's elements. Every value that came from a call (an app's answer, a URL, a
// caption) is set as text, never parsed as HTML.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// Seconds from `start` to `moment` (ISO timestamps), one decimal.
export function offset(start, moment) {
  if (!start || !moment) return "";
  const seconds = (Date.parse(moment) - Date.parse(start)) / 1000;
  return `${seconds.toFixed(1)}s`;
}

export function clock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleTimeString([], { hour12: false });
}

// Only http(s) URLs become links or audio sources.
export function webUrl(text) {
  try {
    const url = new URL(text, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

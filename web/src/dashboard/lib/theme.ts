export type Theme = "light" | "dark";

export function savedTheme(): Theme {
  try {
    const t = localStorage.getItem("parley.theme");
    if (t === "dark" || t === "light") return t;
  } catch {
    /* storage blocked */
  }
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(t: Theme) {
  document.documentElement.classList.toggle("dark", t === "dark");
}

export function saveTheme(t: Theme) {
  applyTheme(t);
  try {
    localStorage.setItem("parley.theme", t);
  } catch {
    /* this page only */
  }
}

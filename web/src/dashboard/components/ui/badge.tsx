import type { ReactNode } from "react";
import { cn } from "./cn";

export function Badge({ children, tone = "neutral", className, label }: { children: ReactNode; tone?: "neutral" | "accent" | "danger" | "ok" | "warn"; className?: string; label?: string }) {
  const tones = {
    neutral: "bg-raised text-muted border border-line",
    accent: "bg-accent text-accent-fg",
    danger: "bg-red-600 text-white",
    ok: "bg-emerald-600 text-white",
    warn: "bg-amber-500 text-black",
  };
  return (
    <span aria-label={label} className={cn("inline-flex min-w-5 items-center justify-center rounded-full px-1.5 text-xs leading-5 font-semibold", tones[tone], className)}>
      {children}
    </span>
  );
}

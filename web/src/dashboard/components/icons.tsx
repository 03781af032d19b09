// Icons drawn as SVG: emoji depend on the fonts a machine has.

export function LockIcon({ className }: { className?: string }) {
  return (
    <svg width="12" height="12" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.5" aria-hidden="true" className={className ?? "mr-1 inline-block align-[-1px]"}>
      <rect x="5" y="11" width="14" height="10" rx="2" />
      <path d="M8 11V7a4 4 0 0 1 8 0v4" />
    </svg>
  );
}

export function PinIcon({ className }: { className?: string }) {
  return (
    <svg width="12" height="12" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.5" aria-hidden="true" className={className ?? "mr-1 inline-block align-[-1px] text-accent"}>
      <path d="M12 17v5M9 3h6l-1 7 4 3v2H6v-2l4-3z" />
    </svg>
  );
}

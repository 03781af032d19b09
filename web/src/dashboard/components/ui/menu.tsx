import * as M from "@radix-ui/react-dropdown-menu";
import type { ReactNode } from "react";

export const Menu = M.Root;
export const MenuTrigger = M.Trigger;

export function MenuContent({ children, label }: { children: ReactNode; label?: string }) {
  return (
    <M.Portal>
      <M.Content aria-label={label} sideOffset={4} align="end" className="z-50 min-w-44 rounded-md border border-line bg-panel p-1 text-sm text-fg shadow-lg">
        {children}
      </M.Content>
    </M.Portal>
  );
}

export function MenuItem({ children, onSelect, disabled }: { children: ReactNode; onSelect: () => void; disabled?: boolean }) {
  return (
    <M.Item disabled={disabled} onSelect={onSelect} className="flex cursor-pointer items-center gap-2 rounded px-2 py-1.5 outline-none select-none data-[disabled]:opacity-50 data-[highlighted]:bg-raised">
      {children}
    </M.Item>
  );
}

export function MenuLabel({ children }: { children: ReactNode }) {
  return <M.Label className="px-2 py-1 text-xs text-muted">{children}</M.Label>;
}

export const MenuSeparator = () => <M.Separator className="my-1 h-px bg-line" />;

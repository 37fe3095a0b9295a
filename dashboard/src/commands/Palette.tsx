/** Command palette (Ctrl/Cmd+K), keyboard shortcuts and the ? help. Placeholder until built. */
export function KeyboardLayer() {
  return null;
}

// Small formatting helpers shared by the panels.

export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—");

export const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

export const percent = (fraction) => `${Math.round((fraction ?? 0) * 100)}%`;

/** "4 s", "3 min", "2 h" — an age for people. */
export function age(seconds) {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** JSON for a <pre>, or an em dash. */
export const json = (value) => (value == null ? "—" : JSON.stringify(value, null, 2));

/** One line describing a live event or an audit-trail entry. */
export function describeEvent(event) {
  const what =
    event.task?.description ??
    event.agent?.name ??
    event.conflict?.subject ??
    event.finding?.subject ??
    event.resource ??
    event.entityId ??
    "";
  const extra = [];
  if (event.type === "task.progress" && event.progress != null) extra.push(percent(event.progress));
  if (event.toStatus) extra.push(`→ ${event.toStatus}`);
  if (event.health) extra.push(event.health);
  return [what, ...extra].filter(Boolean).join(" · ");
}

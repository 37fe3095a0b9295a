import type { LabelCountRow, LabelRow } from './repository.js';

/** Account label JSON (`_label`) and the label counts of /conversations/meta. */

/** `{id, title, description, color, show_on_sidebar}`. */
export function presentLabel(l: LabelRow) {
  return { id: l.id, title: l.title, description: l.description, color: l.color, show_on_sidebar: !!l.show_on_sidebar };
}

/** `GET /labels`: `{payload: [label]}`. */
export const presentLabelList = (labels: LabelRow[]) => ({ payload: labels.map(presentLabel) });

/** `meta.labels` of /conversations/meta (ChannelX extension). */
export const presentLabelCounts = (rows: LabelCountRow[]) =>
  rows.map((r) => ({ id: r.id, title: r.title, open_count: r.open_count, unread_count: r.unread_count }));

/**
 * What `/` answers when the dashboard has not been built (a fresh clone started with `npm run dev`,
 * or DASHBOARD_DIR pointing nowhere): a plain page saying how to build it, never a crash.
 */
export const presentDashboardMissing = (dir: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ChannelX: dashboard not built</title></head>
<body>
<h1>The ChannelX dashboard is not built</h1>
<p>The server found no <code>index.html</code> in <code>${escapeHtml(dir)}</code>.</p>
<p>Build it from the repository root with <code>npm run build -w @channelx/dashboard</code>
(<code>npm start</code> does this for you), or set <code>DASHBOARD_DIR</code> to a built dashboard.
The API keeps working meanwhile: see <a href="/api-docs">/api-docs</a>.</p>
</body>
</html>
`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

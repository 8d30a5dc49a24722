/** "← Newer · Page N of M · Older →" under a paged list (the events gallery, the visits). */

export interface PagerProps {
  /** 1-based. */
  page: number;
  pages: number;
  pageHref(page: number): string;
}

export function Pager(p: PagerProps): JSX.Element {
  return (
    <nav class="pager">
      {p.page > 1 ? (
        <a href={p.pageHref(p.page - 1)}>← Newer</a>
      ) : (
        <span class="muted">← Newer</span>
      )}
      <span>
        Page {String(p.page)} of {String(Math.max(1, p.pages))}
      </span>
      {p.page < p.pages ? (
        <a href={p.pageHref(p.page + 1)}>Older →</a>
      ) : (
        <span class="muted">Older →</span>
      )}
    </nav>
  );
}

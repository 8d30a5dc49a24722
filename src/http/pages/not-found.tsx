/** The HTML 404 page (browsers; API clients get JSON). */
import { Layout, type PageInfo } from "./layout.tsx";

export function NotFoundPage({ info }: { info: PageInfo }): JSX.Element {
  return (
    <Layout title="hazardcam · not found" active="" info={info}>
      <div class="card">
        <h1>Not found</h1>
        <p>
          Nothing here. Go to the <a href="/">live view</a> or the <a href="/events">events</a>.
        </p>
      </div>
    </Layout>
  );
}

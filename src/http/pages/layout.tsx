/**
 * The frame of every page: head (inline CSS, phone viewport), navigation and footer.
 * kitajs JSX renders to strings and does NOT escape children unless marked `safe`: every text
 * derived from config, files or the index goes through `safe`. Attribute values are quoted by
 * kitajs; URLs only ever contain archive names that passed SAFE_JPEG_NAME.
 */
import type { PropsWithChildren } from "@kitajs/html";
import { CSS } from "../assets.ts";

export interface PageInfo {
  version: string;
  model: string;
}

export type LayoutProps = PropsWithChildren<{
  title: string;
  active: "live" | "events" | "";
  info: PageInfo;
}>;

export function Layout(props: LayoutProps): JSX.Element {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title safe>{props.title}</title>
        <style>{CSS}</style>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            hazardcam
          </a>
          <nav>
            <a href="/" class={props.active === "live" ? "on" : ""}>
              Live
            </a>
            <a href="/events" class={props.active === "events" ? "on" : ""}>
              Events
            </a>
            <a href="/status">Status</a>
          </nav>
        </header>
        <main>{props.children}</main>
        <footer>
          hazardcam <span safe>{props.info.version}</span> · model{" "}
          <span safe>{props.info.model}</span>
        </footer>
      </body>
    </html>
  );
}

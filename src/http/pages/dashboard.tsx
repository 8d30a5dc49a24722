/**
 * The live dashboard (/): the camera's picture with boxes drawn by the browser, the counters,
 * and the latest events. The script (DASHBOARD_JS, src/http/client/dashboard.js) fills them
 * from one WebSocket per tab (/api/live); the ids and data-* attributes are what it updates.
 * Without JavaScript the picture comes from /video?raw=1.
 */
import type { PropsWithChildren } from "@kitajs/html";
import type { EventRecord } from "../../events/archive.ts";
import { DASHBOARD_JS } from "../assets.ts";
import { ActivityChart } from "./activity-chart.tsx";
import { fmt1 } from "./format.ts";
import { Layout, type PageInfo } from "./layout.tsx";
import { ScenePanel } from "./scene-panel.tsx";
import { Thumb } from "./thumb.tsx";
import { ZonesPanel } from "./zones-panel.tsx";

export interface DashboardProps {
  info: PageInfo;
  online: boolean;
  offlineReason: string | null;
  backend: string | null;
  people: number;
  fps: number;
  detectFps: number;
  inferMs: number;
  width: number;
  height: number;
  threshold: number;
  source: string;
  clients: number;
  eventsTotal: number;
  recent: EventRecord[];
}

export function Dashboard(p: DashboardProps): JSX.Element {
  return (
    <Layout title="hazardcam · live" active="live" info={p.info}>
      <div class="layout">
        <LivePanel {...p} />
        <div class="side">
          <StatsPanel {...p} />
          <ScenePanel />
          <RecentPanel recent={p.recent} />
        </div>
      </div>
      <ActivityChart />
      <script>{DASHBOARD_JS}</script>
    </Layout>
  );
}

type LiveProps = Pick<DashboardProps, "source" | "online" | "offlineReason" | "width" | "height">;

/** The picture, the online badge, the no-signal line and the snapshot button. */
function LivePanel(p: LiveProps): JSX.Element {
  return (
    <section class="card">
      <h2>
        Live <small safe>{p.source}</small>{" "}
        <span
          id="state"
          data-online
          class={`badge ${p.online ? "online" : "offline"}`}
          style="float:right"
        >
          {p.online ? "online" : "offline"}
        </span>
      </h2>
      <div class="stage" style={`aspect-ratio: ${p.width} / ${p.height}`}>
        <img
          id="live"
          data-live
          alt="live camera"
          decoding="async"
          width={p.width}
          height={p.height}
        />
        <noscript>
          <img src="/video?raw=1" alt="live camera" width={p.width} height={p.height} />
        </noscript>
        <canvas id="overlay"></canvas>
      </div>
      <div id="offline" class={p.online ? "offline-msg hidden" : "offline-msg"}>
        No signal:{" "}
        <span id="offline-reason" safe>
          {p.offlineReason ?? "no frames yet"}
        </span>
      </div>
      <form class="actions" method="post" action="/snapshot">
        <button type="submit" id="snapshot" data-snapshot>
          Take snapshot
        </button>
        <a class="button secondary" href="/latest.jpg" target="_blank">
          Current frame
        </a>
      </form>
      <ZonesPanel />
    </section>
  );
}

/** One counter tile; the value element (with the id the script updates) is the child. */
function Stat(p: PropsWithChildren<{ k: string; big?: boolean }>): JSX.Element {
  return (
    <div class={p.big ? "stat big" : "stat"}>
      <div class="k">{p.k}</div>
      {p.children}
    </div>
  );
}

type StatsProps = Omit<DashboardProps, "info" | "recent">;

function StatsPanel(p: StatsProps): JSX.Element {
  return (
    <section class="card">
      <div class="stats">
        <Stat k="People" big>
          <div class="v" id="people" data-people>
            {String(p.people)}
          </div>
        </Stat>
        <Stat k="Capture fps">
          <div class="v" id="fps" data-fps>
            {fmt1(p.fps)}
          </div>
        </Stat>
        <Stat k="Detect fps">
          <div class="v" id="detect-fps" data-detect-fps>
            {fmt1(p.detectFps)}
          </div>
        </Stat>
        <Stat k="Inference ms">
          <div class="v" id="infer-ms" data-infer-ms>
            {fmt1(p.inferMs)}
          </div>
        </Stat>
        <Stat k="Backend">
          <div class="v" id="backend" safe>
            {p.backend ?? "–"}
          </div>
        </Stat>
        <Stat k="Events">
          <div class="v" id="events-total" data-events-total>
            {String(p.eventsTotal)}
          </div>
        </Stat>
        <Stat k="Viewers">
          <div class="v" id="clients">
            {String(p.clients)}
          </div>
        </Stat>
      </div>
      <p class="muted" style="margin:10px 0 0">
        Threshold {String(p.threshold)} · boxes drawn by your browser
      </p>
    </section>
  );
}

function RecentPanel({ recent }: { recent: EventRecord[] }): JSX.Element {
  return (
    <section class="card">
      <h2>
        Latest events <a href="/events">all →</a>
      </h2>
      <div class="thumbs small" id="recent">
        {recent.length === 0 ? (
          <p class="muted" id="no-events">
            No events yet.
          </p>
        ) : (
          recent.map((e) => <Thumb e={e} />)
        )}
      </div>
    </section>
  );
}

// The instances page: rows follow the instances' state as the server sends it
// (server-sent events), without reloading; a polite live region says what changed.
interface InstanceEvent {
  id: string;
  state: string;
  publicIp?: string;
  privateIp?: string;
  type: string;
  zone: string;
  image: string;
}

const body = document.querySelector<HTMLTableSectionElement>("#instances tbody");
const liveStatus = document.getElementById("live-status");

function cell(row: HTMLTableRowElement, field: string): HTMLElement | null {
  return row.querySelector<HTMLElement>(`[data-f="${field}"]`);
}

function update(e: InstanceEvent): void {
  if (!body) return;
  let row = body.querySelector<HTMLTableRowElement>(`tr[data-id="${CSS.escape(e.id)}"]`);
  if (!row) {
    row = document.createElement("tr");
    row.dataset.id = e.id;
    for (const f of ["id", "state", "type", "publicIp", "privateIp", "zone", "image"]) {
      const td = document.createElement(f === "id" ? "th" : "td");
      if (f === "id") td.setAttribute("scope", "row");
      td.dataset.f = f;
      row.appendChild(td);
    }
    row.appendChild(document.createElement("td"));
    body.appendChild(row);
  }
  const before = cell(row, "state")?.textContent;
  for (const [f, v] of Object.entries({
    id: e.id,
    state: e.state,
    type: e.type,
    publicIp: e.publicIp ?? "",
    privateIp: e.privateIp ?? "",
    zone: e.zone,
    image: e.image,
  })) {
    const c = cell(row, f);
    if (c && f !== "id" && c.textContent !== v) c.textContent = v;
    else if (c && f === "id" && !c.textContent) c.textContent = v;
  }
  row.dataset.state = e.state;
  if (before !== e.state && liveStatus) liveStatus.textContent = `${e.id} is ${e.state}`;
}

if (body) {
  const events = new EventSource("/instances/events");
  events.addEventListener("instance", (m) => update(JSON.parse((m as MessageEvent<string>).data) as InstanceEvent));
  events.addEventListener("end", () => events.close());
}

// Build: copies our sources (web/src) and the pinned npm libraries into src/aiff/api/static/.
// Malaysia's state boundaries come from @highcharts/map-collection (TopoJSON), converted to GeoJSON here
// with topojson-client. Nothing third-party is committed: everything lands in the (gitignored) output.
import { cpSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { feature } from "topojson-client";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "aiff", "api", "static");
const vendor = join(out, "vendor");
const nm = join(here, "node_modules");
rmSync(join(out, "app"), { recursive: true, force: true });
rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
cpSync(join(here, "src", "app"), join(out, "app"), { recursive: true });
for (const page of ["index.html", "field.html"]) cpSync(join(here, "src", page), join(out, page));
cpSync(join(nm, "chart.js", "dist", "chart.umd.min.js"), join(vendor, "chart.umd.min.js"));
cpSync(join(nm, "leaflet", "dist", "leaflet.js"), join(vendor, "leaflet.js"));
cpSync(join(nm, "leaflet", "dist", "leaflet.css"), join(vendor, "leaflet.css"));
cpSync(join(nm, "leaflet", "dist", "images"), join(vendor, "images"), { recursive: true });
const topo = JSON.parse(readFileSync(join(nm, "@highcharts", "map-collection", "countries", "my", "my-all.topo.json"), "utf8"));
const geo = feature(topo, topo.objects.default);
// Putrajaya is served from the Kuala Lumpur zone.
for (const f of geo.features) f.properties = { name: f.properties.name, zone: f.properties.name === "Putrajaya" ? "Kuala Lumpur" : f.properties.name };
writeFileSync(join(vendor, "malaysia-states.geojson"), JSON.stringify(geo));
console.log(`frontend built into ${out} (${geo.features.length} state boundaries)`);

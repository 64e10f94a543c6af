// The admin's capacity page: one bar chart per zone, free and max instances per VM
// type (Chart.js, only the parts a bar chart needs). The table beside it holds the
// same figures for screen readers and for anyone without scripts.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface Capacity {
  zones: Array<{ zone: string; types: Array<{ name: string; free: number; max: number }> }>;
}

const data = document.getElementById("capacity-data");
if (data?.textContent) {
  const capacity = JSON.parse(data.textContent) as Capacity;
  for (const z of capacity.zones) {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[data-zone="${CSS.escape(z.zone)}"]`);
    if (!canvas) continue;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: z.types.map((t) => t.name),
        datasets: [
          { label: "free", data: z.types.map((t) => t.free), backgroundColor: "#2e7d32" },
          { label: "max", data: z.types.map((t) => t.max), backgroundColor: "#90a4ae" },
        ],
      },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    // What was drawn, for tests and for anyone inspecting the page.
    canvas.dataset.drawn = JSON.stringify(z.types);
  }
}

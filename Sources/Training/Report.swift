/// `index.html` of a run folder: the sample translations grouped by epoch (newest first) and
/// the loss curves drawn as inline SVG, rebuilt from what is on disk each time samples are saved.
import Foundation

/// The images shown for each sample, in the reference's order.
public let sampleLabels = [
  "real_A", "fake_B", "rec_A", "idt_B", "real_B", "fake_A", "rec_B", "idt_A",
]

/// The file name of one sample image: `epoch003_iter00000400_fake_B.png`.
public func sampleFileName(epoch: Int, iteration: Int, label: String) -> String {
  String(format: "epoch%03d_iter%08d_", epoch, iteration) + label + ".png"
}

/// Writes `index.html` from the sample files in the run folder and the loss records.
func writeReport(
  folder: RunFolder, options: TrainingOptions, records: [LossRecord]
) throws(TrainingError) {
  // Samples on disk, grouped by (epoch, iteration).
  let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.samplesFolder)) ?? []
  var groups: [Int: [Int: [String: String]]] = [:]
  for file in files where file.hasSuffix(".png") && file.hasPrefix("epoch") {
    let parts = file.dropLast(4).split(separator: "_", maxSplits: 2)
    guard parts.count == 3, let epoch = Int(parts[0].dropFirst(5)),
      parts[1].hasPrefix("iter"), let iteration = Int(parts[1].dropFirst(4))
    else { continue }
    groups[epoch, default: [:]][iteration, default: [:]][String(parts[2])] = file
  }

  var html = """
    <!DOCTYPE html>
    <html><head><meta charset="utf-8"><title>\(escapeHTML(options.name))</title>
    <style>
    body { font-family: sans-serif; margin: 1.5em; }
    table { border-collapse: collapse; } td { padding: 2px; text-align: center; font-size: 12px; }
    img { width: 160px; image-rendering: pixelated; }
    </style></head><body>
    <h1>\(escapeHTML(options.name))</h1>
    <p>A: \(escapeHTML(options.folderA)) (\(escapeHTML(options.domainA))),
    B: \(escapeHTML(options.folderB)) (\(escapeHTML(options.domainB))).
    \(records.last.map { "Last logged: epoch \($0.epoch), iteration \($0.iteration)." } ?? "")</p>
    <h2>Losses</h2>
    \(lossChart(records))

    """
  for epoch in groups.keys.sorted(by: >) {
    html += "<h2>Epoch \(epoch)</h2>\n<table>\n<tr><td></td>"
    html += sampleLabels.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
    for (iteration, images) in groups[epoch, default: [:]].sorted(by: { $0.key > $1.key }) {
      html += "<tr><td>iter \(iteration)</td>"
      for label in sampleLabels {
        if let file = images[label] {
          html += "<td><img src=\"samples/\(file)\" alt=\"\(label)\"></td>"
        } else {
          html += "<td></td>"
        }
      }
      html += "</tr>\n"
    }
    html += "</table>\n"
  }
  html += "</body></html>\n"
  try writeAtomically(Data(html.utf8), to: folder.reportFile)
}

/// An SVG line chart of every loss against the iteration, at most `maximumPoints` per curve
/// (longer histories are averaged over equal runs of records).
func lossChart(_ records: [LossRecord], maximumPoints: Int = 600) -> String {
  guard records.count >= 2 else { return "<p>Not enough steps logged yet.</p>" }
  let width = 900.0
  let height = 320.0
  let margin = 40.0
  let colours = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  ]

  // Average runs of records so that each curve has at most `maximumPoints` points.
  let run = max(1, (records.count + maximumPoints - 1) / maximumPoints)
  var points: [(x: Double, values: [Double])] = []
  for start in stride(from: 0, to: records.count, by: run) {
    let slice = records[start..<min(records.count, start + run)]
    let x = slice.map { Double($0.iteration) }.reduce(0, +) / Double(slice.count)
    var values = [Double](repeating: 0, count: 8)
    for record in slice {
      for (index, term) in record.losses.named.enumerated() { values[index] += Double(term.value) }
    }
    points.append((x, values.map { $0 / Double(slice.count) }))
  }

  let xs = points.map(\.x)
  let allValues = points.flatMap(\.values).filter(\.isFinite)
  let minX = xs.min() ?? 0
  let maxX = max((xs.max() ?? 1), minX + 1)
  let maxY = max(allValues.max() ?? 1, 1e-6)
  func px(_ x: Double) -> Double { margin + (x - minX) / (maxX - minX) * (width - 2 * margin) }
  func py(_ y: Double) -> Double {
    height - margin - max(0, min(y, maxY)) / maxY * (height - 2 * margin)
  }

  var svg = String(
    format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\">\n",
    width, height + 30)
  svg += String(
    format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\""
      + " stroke=\"#999\"/>\n", margin, margin, width - 2 * margin, height - 2 * margin)
  svg += String(
    format: "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">%.3g</text>\n", 2.0, margin + 4, maxY)
  svg += String(
    format: "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">0</text>\n", 2.0, height - margin + 4)
  svg += String(
    format: "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">iter %.0f</text>\n", margin,
    height - margin + 16, minX)
  svg += String(
    format: "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">iter %.0f</text>\n",
    width - margin, height - margin + 16, maxX)
  let names = Losses().named.map(\.name)
  for (index, name) in names.enumerated() {
    let path = points.map { String(format: "%.1f,%.1f", px($0.x), py($0.values[index])) }
    svg += "<polyline fill=\"none\" stroke=\"\(colours[index])\" stroke-width=\"1.2\" points=\""
    svg += path.joined(separator: " ") + "\"/>\n"
    svg += String(format: "<text x=\"%.0f\" y=\"%.0f\"", margin + Double(index) * 100, height + 20)
    svg += " font-size=\"12\" fill=\"\(colours[index])\">\(name)</text>\n"
  }
  return svg + "</svg>"
}

/// `text` with the characters HTML gives meaning to replaced by entities.
func escapeHTML(_ text: String) -> String {
  text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

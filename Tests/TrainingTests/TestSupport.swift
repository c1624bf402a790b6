/// Shared helpers of the training tests: fixture and scratch folders, and comparisons that
/// report the worst difference and where it is.
import Checkpoints
import Foundation
import Tensors
import Testing

@testable import Training

/// Folders the tests read from.
enum TestPaths {
  /// `Tests/TrainingTests/Fixtures`.
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
  /// `<package root>/../shared`.
  static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("shared")
}

/// A fresh empty folder for one test, removed by the caller with `removeFolder`.
func makeScratchFolder(_ label: String) throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent(
    "TrainingTests-\(label)-\(UUID().uuidString)"
  ).path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Removes a scratch folder.
func removeFolder(_ path: String) {
  try? FileManager.default.removeItem(atPath: path)
}

/// The worst elementwise difference between `actual` and `expected` beyond `atol + rtol·|e|`,
/// checked with `#expect` and described by its index and values on failure.
func expectClose(
  _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.count == expected.count,
    "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
  guard actual.count == expected.count else { return }
  var worstExcess: Float = -.infinity
  var worstIndex = 0
  for index in actual.indices {
    let excess = abs(actual[index] - expected[index]) - (atol + rtol * abs(expected[index]))
    if excess > worstExcess || excess.isNaN {
      worstExcess = excess
      worstIndex = index
      if excess.isNaN { break }
    }
  }
  let difference = actual.isEmpty ? 0 : abs(actual[worstIndex] - expected[worstIndex])
  let message =
    actual.isEmpty
    ? ""
    : "\(what): worst difference \(difference) at index \(worstIndex) (got "
      + "\(actual[worstIndex]), expected \(expected[worstIndex]), rtol \(rtol), atol \(atol))"
  #expect(actual.isEmpty || worstExcess <= 0, "\(message)", sourceLocation: sourceLocation)
}

/// A fixture file of safetensors.
func loadFixture(_ name: String) throws -> SafetensorsFile {
  try SafetensorsFile(contentsOf: TestPaths.fixtures.appendingPathComponent(name))
}

import Foundation
import ImageIO
import Tensors
import Testing

@testable import Translation

/// `Tests/TranslationTests/Fixtures`, written by scripts/make_translation_fixtures.py.
let fixturesFolder = FilePath(
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures"))

/// A fresh empty folder for one test.
func temporaryFolder(_ label: String = "TranslationTests") -> FilePath {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "\(label)-\(UUID().uuidString)")
  try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return FilePath(url)
}

/// A translator with a known result: each sample `v` becomes `-v` (colour inversion of the
/// image). It checks the sizes the pipeline gives it and records them.
final class InvertingTranslator: ImageTranslator, @unchecked Sendable {
  let inputChannels: Int
  let outputChannels: Int
  let sizeMultiple = 4
  let minimumSize = 8
  let memoryEstimate: MemoryEstimate
  private(set) var shapesSeen: [[Int]] = []

  init(inputChannels: Int = 3, outputChannels: Int = 3, bytesPerPixel: Int = 100) {
    self.inputChannels = inputChannels
    self.outputChannels = outputChannels
    memoryEstimate = MemoryEstimate(fixedBytes: 1 << 20, bytesPerPixel: bytesPerPixel)
  }

  func translate(_ image: Tensor) -> Tensor {
    let shape = image.shape
    precondition(shape.count == 4 && shape[0] == 1 && shape[1] == inputChannels, "\(shape)")
    precondition(shape[2] % 4 == 0 && shape[3] % 4 == 0, "not padded to ×4: \(shape)")
    precondition(shape[2] >= 8 && shape[3] >= 8, "not padded to the minimum: \(shape)")
    shapesSeen.append(shape)
    let plane = shape[2] * shape[3]
    var scalars = [Float](repeating: 0, count: outputChannels * plane)
    for channel in 0..<outputChannels {
      for index in 0..<plane {
        scalars[channel * plane + index] = -image.scalars[(channel % inputChannels) * plane + index]
      }
    }
    return Tensor(shape: [1, outputChannels, shape[2], shape[3]], scalars: scalars)
  }
}

/// The bytes of a file (any name), or nil when it cannot be read.
func fileBytes(_ path: FilePath) -> [UInt8]? {
  let descriptor = path.withCString { open($0, O_RDONLY) }
  guard descriptor >= 0 else { return nil }
  defer { close(descriptor) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 1 << 16) }
    if count <= 0 { break }
    bytes += chunk[0..<count]
  }
  return bytes
}

/// Every entry under `folder` (relative path → bytes; nil for links and folders), so that a
/// test can prove a tree unchanged.
func snapshot(_ folder: FilePath) -> [FilePath: [UInt8]?] {
  var entries: [FilePath: [UInt8]?] = [:]
  func walk(_ current: FilePath, _ relative: FilePath?) {
    guard let directory = current.withCString({ opendir($0) }) else { return }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) {
        FilePath(bytes: $0.prefix { $0 != 0 })
      }
      if name.bytes == [46] || name.bytes == [46, 46] { continue }
      let path = current.appending(name)
      let key = relative.map { $0.appending(name) } ?? name
      var status = stat()
      _ = path.withCString { lstat($0, &status) }
      switch status.st_mode & S_IFMT {
      case S_IFDIR:
        entries[key] = .some(nil)
        walk(path, key)
      case S_IFLNK: entries[key] = .some(nil)
      default: entries[key] = fileBytes(path)
      }
    }
  }
  walk(folder, nil)
  return entries
}

/// The largest absolute difference between two sample arrays and where it is.
func worstDifference(_ a: [Float], _ b: [Float]) -> (value: Float, index: Int) {
  precondition(a.count == b.count, "sizes differ: \(a.count), \(b.count)")
  var worst: (Float, Int) = (0, 0)
  for index in a.indices where abs(a[index] - b[index]) > worst.0 {
    worst = (abs(a[index] - b[index]), index)
  }
  return worst
}

/// How far `actual` strays from `expected` beyond `atol + rtol·|expected|`: the worst excess
/// (≤ 0 when every sample is within tolerance), where it is, and both values there.
func closeness(_ actual: [Float], _ expected: [Float], rtol: Float, atol: Float) -> (
  excess: Float, index: Int, actual: Float, expected: Float
) {
  precondition(actual.count == expected.count, "sizes differ: \(actual.count), \(expected.count)")
  var worst: (excess: Float, index: Int, actual: Float, expected: Float) = (-.infinity, -1, 0, 0)
  for index in actual.indices {
    let allowed = atol + rtol * abs(expected[index])
    let excess = abs(actual[index] - expected[index]) - allowed
    if excess > worst.excess { worst = (excess, index, actual[index], expected[index]) }
  }
  return worst
}

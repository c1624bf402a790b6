/// Helpers shared by the ImageIO tests: where the fixtures are, temporary folders, sample
/// hashes and worst-difference reports.
import Foundation

@testable import ImageIO

/// `Tests/ImageIOTests`.
let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

/// `Tests/ImageIOTests/Fixtures`, written by the scripts in `scripts/`.
let fixturesFolder = testsFolder.appendingPathComponent("Fixtures")

/// `<package root>/../shared`, where the conformance images live.
let sharedFolder = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("shared")

/// A path inside the shared conformance folder.
func conformancePath(_ relative: String) -> FilePath {
  FilePath(sharedFolder.appendingPathComponent("conformance").appendingPathComponent(relative))
}

/// A path inside the fixtures folder.
func fixturePath(_ relative: String) -> FilePath {
  FilePath(fixturesFolder.appendingPathComponent(relative))
}

/// A fresh empty folder for one test.
func temporaryFolder() -> FilePath {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "ImageIOTests-\(UUID().uuidString)")
  try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return FilePath(url)
}

/// The image's samples as integers on its bit depth's scale, `[height, width, channels]` with
/// alpha last: the layout the reference scripts hash. Values are clamped to the scale first, as
/// encoding does.
func integerSamples(_ image: Image) -> [UInt16] {
  let maximum: Float = image.bitDepth == 16 ? 65535 : 255
  func level(_ value: Float) -> UInt16 { UInt16(min(max(value * maximum, 0), maximum).rounded()) }
  let planeSize = image.width * image.height
  let channels = image.colorChannels + (image.alpha == nil ? 0 : 1)
  var samples = [UInt16](repeating: 0, count: planeSize * channels)
  for index in 0..<planeSize {
    for channel in 0..<image.colorChannels {
      samples[index * channels + channel] = level(image.pixels[channel * planeSize + index])
    }
    if let alpha = image.alpha {
      samples[index * channels + channels - 1] = level(alpha[index])
    }
  }
  return samples
}

/// 64-bit FNV-1a over the samples as little-endian 16-bit words (as the scripts compute it).
func fnv1a64(_ samples: [UInt16]) -> String {
  var hash: UInt64 = 0xCBF2_9CE4_8422_2325
  for sample in samples {
    for byte in [UInt8(sample & 0xFF), UInt8(sample >> 8)] {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01B3
    }
  }
  let text = String(hash, radix: 16)
  return String(repeating: "0", count: 16 - text.count) + text
}

/// The largest |a - b| and its index, for failure messages.
func worstDifference(_ a: [Float], _ b: [Float]) -> (difference: Float, index: Int) {
  precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
  var worst: (difference: Float, index: Int) = (0, -1)
  for index in a.indices {
    let difference = abs(a[index] - b[index])
    if difference > worst.difference || difference.isNaN { worst = (difference, index) }
  }
  return worst
}

/// Whether every pair is within `atol + rtol * |expected|`; the failure text names the worst.
func allClose(_ actual: [Float], _ expected: [Float], rtol: Float, atol: Float) -> (Bool, String) {
  guard actual.count == expected.count else {
    return (false, "count \(actual.count) != \(expected.count)")
  }
  var worstExcess: Float = -.infinity
  var worstIndex = -1
  for index in actual.indices {
    let excess = abs(actual[index] - expected[index]) - (atol + rtol * abs(expected[index]))
    if excess > worstExcess || excess.isNaN {
      worstExcess = excess
      worstIndex = index
    }
  }
  guard worstIndex >= 0 else { return (true, "empty") }
  let text =
    "worst at \(worstIndex): \(actual[worstIndex]) vs \(expected[worstIndex]) "
    + "(difference \(abs(actual[worstIndex] - expected[worstIndex])), rtol \(rtol), atol \(atol))"
  return (!(worstExcess > 0) && !worstExcess.isNaN, text)
}

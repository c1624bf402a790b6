/// libjpeg-turbo's test images (../shared/conformance/jpeg): each decodes within one level of
/// what `djpeg` (libjpeg-turbo-progs, installed by scripts/install-deps) writes for it, or is
/// refused with a clear reason (12-bit).
import Foundation
import Testing

@testable import ImageIO

/// The samples `djpeg -pnm` writes for a JPEG file, `[height, width, channels]` 8-bit.
func djpegSamples(_ path: FilePath) throws -> (width: Int, height: Int, channels: Int, [UInt8]) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = ["djpeg", "-pnm", path.description]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw DjpegFailure(message: "djpeg exited with \(process.terminationStatus) for \(path)")
  }
  return try parsePNM([UInt8](data))
}

struct DjpegFailure: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// Parses binary PGM (P5) or PPM (P6) with maxval 255.
func parsePNM(_ bytes: [UInt8]) throws -> (width: Int, height: Int, channels: Int, [UInt8]) {
  var position = 0
  func token() -> String {
    while position < bytes.count {
      if bytes[position] == UInt8(ascii: "#") {
        while position < bytes.count && bytes[position] != 0x0A { position += 1 }
      } else if [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) {
        position += 1
      } else {
        break
      }
    }
    let start = position
    while position < bytes.count && ![0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) {
      position += 1
    }
    return String(decoding: bytes[start..<position], as: UTF8.self)
  }
  let magic = token()
  guard let width = Int(token()), let height = Int(token()), token() == "255",
    magic == "P5" || magic == "P6"
  else { throw DjpegFailure(message: "unexpected PNM header") }
  position += 1  // the single whitespace byte after maxval
  let channels = magic == "P6" ? 3 : 1
  let samples = Array(bytes[position...])
  guard samples.count == width * height * channels else {
    throw DjpegFailure(message: "PNM has \(samples.count) samples, expected more")
  }
  return (width, height, channels, samples)
}

@Suite struct JPEGConformanceTests {
  @Test(arguments: ["testorig.jpg", "testimgint.jpg", "testimgari.jpg"])
  func decodesWithinOneLevelOfDjpeg(_ file: String) throws {
    let path = conformancePath("jpeg/\(file)")
    let image = try Image(contentsOf: path)
    let (width, height, channels, reference) = try djpegSamples(path)
    #expect(image.width == width && image.height == height)
    #expect(image.colorChannels == channels && image.alpha == nil && image.bitDepth == 8)
    guard image.width == width, image.height == height, image.colorChannels == channels else {
      return
    }
    let ours = integerSamples(image).map(Float.init)
    let (difference, index) = worstDifference(ours, reference.map(Float.init))
    #expect(difference <= 1, "worst difference \(difference) levels at sample \(index)")
  }

  @Test func headersDescribeArithmeticAndBaselineFiles() throws {
    let arithmetic = try ImageInfo(contentsOf: conformancePath("jpeg/testimgari.jpg"))
    #expect(arithmetic.arithmeticCoded)
    let baseline = try ImageInfo(contentsOf: conformancePath("jpeg/testorig.jpg"))
    #expect(!baseline.interlaced && !baseline.arithmeticCoded)
    #expect(baseline.colorModel == "YCbCr" && baseline.colorChannels == 3)
  }

  @Test func refuses12BitJPEGClearly() {
    let path = conformancePath("jpeg/monkey12.jpg")
    #expect {
      _ = try Image(contentsOf: path)
    } throws: { error in
      guard case .unsupported(let errorPath, .jpeg, let reason) = error as? ImageIOError else {
        return false
      }
      return errorPath == path && reason.contains("12-bit")
    }
  }
}

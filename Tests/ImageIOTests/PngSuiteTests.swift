/// PngSuite conformance: every valid image decodes to the samples that
/// scripts/make_pngsuite_references.py computed (its own zlib/numpy decoder, checked against
/// Pillow where Pillow keeps full precision); every corrupt `x*` image is refused clearly.
import Foundation
import Testing

@testable import ImageIO

struct PngSuiteReference: Decodable, Sendable, CustomTestStringConvertible {
  var file: String
  var width: Int
  var height: Int
  var channels: Int
  var bitDepth: Int
  var fnv1a64: String
  var channelSums: [Int]

  var testDescription: String { file }
}

let pngSuiteReferences: [PngSuiteReference] = {
  let url = fixturesFolder.appendingPathComponent("pngsuite.json")
  guard let data = try? Data(contentsOf: url),
    let references = try? JSONDecoder().decode([PngSuiteReference].self, from: data)
  else { return [] }
  return references
}()

@Suite struct PngSuiteTests {
  @Test func referencesArePresent() {
    #expect(pngSuiteReferences.count == 161)
  }

  @Test(arguments: pngSuiteReferences)
  func decodesToTheReferenceSamples(_ reference: PngSuiteReference) throws {
    let image = try Image(contentsOf: conformancePath("pngsuite/\(reference.file)"))
    let channels = image.colorChannels + (image.alpha == nil ? 0 : 1)
    #expect(image.width == reference.width && image.height == reference.height)
    #expect(channels == reference.channels)
    #expect(image.bitDepth == reference.bitDepth)
    #expect(image.format == .png)
    guard channels == reference.channels, image.width == reference.width else { return }

    let samples = integerSamples(image)
    let sums = (0..<channels).map { channel in
      stride(from: channel, to: samples.count, by: channels).reduce(0) { $0 + Int(samples[$1]) }
    }
    #expect(sums == reference.channelSums, "per-channel sums differ")
    #expect(fnv1a64(samples) == reference.fnv1a64, "sample hash differs")
  }

  /// PngSuite's basic files spell their header in their names: `basi3p04` is interlaced (i),
  /// colour type 3 (palette), 4 bits.
  @Test(arguments: pngSuiteReferences.filter { $0.file.hasPrefix("bas") }.map(\.file))
  func headersMatchTheFileNames(_ file: String) throws {
    let info = try ImageInfo(contentsOf: conformancePath("pngsuite/\(file)"))
    let name = Array(file)
    let colorType = Int(String(name[4])) ?? -1
    #expect(info.format == .png)
    #expect(info.interlaced == (name[3] == "i"))
    #expect(info.bitDepth == Int(String(name[6...7])))
    #expect(info.colorChannels == (colorType == 0 || colorType == 4 ? 1 : 3))
    #expect(info.hasAlpha == (colorType == 4 || colorType == 6))
    #expect(info.width == 32 && info.height == 32 && info.orientation == 1)
  }

  static let corruptFiles: [(String, String)] = [
    ("xc1n0g08.png", "IHDR"), ("xc9n2c08.png", "IHDR"), ("xcrn0g04.png", "not a PNG or JPEG"),
    ("xcsn0g01.png", "CRC"), ("xd0n2c08.png", "IHDR"), ("xd3n2c08.png", "IHDR"),
    ("xd9n2c08.png", "IHDR"), ("xdtn0g01.png", "IEND"), ("xhdn0g08.png", "CRC"),
    ("xlfn0g04.png", "not a PNG or JPEG"), ("xs1n0g01.png", "not a PNG or JPEG"),
    ("xs2n0g01.png", "not a PNG or JPEG"), ("xs4n0g01.png", "not a PNG or JPEG"),
    ("xs7n0g01.png", "not a PNG or JPEG"),
  ]

  @Test(arguments: corruptFiles)
  func refusesCorruptFiles(_ file: String, _ expectedReason: String) {
    let path = conformancePath("pngsuite/\(file)")
    #expect {
      _ = try Image(contentsOf: path)
    } throws: { error in
      guard let error = error as? ImageIOError else { return false }
      return error.path == path && error.description.contains(expectedReason)
        && error.description.hasPrefix(path.description)
    }
  }
}

/// Resampling, padding, crops, flips and Image ⇄ Tensor, against references from
/// scripts/make_resampling_references.py (Pillow's resize, numpy's reflect pad).
import Foundation
import Tensors
import Testing

@testable import ImageIO

struct ResamplingFixture: Decodable, Sendable {
  struct FloatCase: Decodable, Sendable, CustomTestStringConvertible {
    var filter: String
    var width: Int
    var height: Int
    var pixels: [Float]
    var testDescription: String { "\(filter) \(width)×\(height)" }
  }
  struct RGBCase: Decodable, Sendable, CustomTestStringConvertible {
    var filter: String
    var width: Int
    var height: Int
    var samples: [Int]
    var testDescription: String { "\(filter) \(width)×\(height)" }
  }
  struct Pad: Decodable, Sendable {
    var left: Int
    var right: Int
    var top: Int
    var bottom: Int
  }
  var width: Int
  var height: Int
  var pixels: [Float]
  var cases: [FloatCase]
  var rgbSamples: [Int]
  var rgbCases: [RGBCase]
  var padding: Pad
  var padded: [Float]

  /// The grey source image.
  var grey: Image {
    Image(width: width, height: height, colorChannels: 1, pixels: pixels)
  }

  /// The RGB source image, planar, in [0, 1].
  var rgb: Image {
    let planeSize = width * height
    var planes = [Float](repeating: 0, count: 3 * planeSize)
    for index in 0..<planeSize {
      for channel in 0..<3 {
        planes[channel * planeSize + index] = Float(rgbSamples[index * 3 + channel]) / 255
      }
    }
    return Image(width: width, height: height, colorChannels: 3, pixels: planes)
  }
}

let resamplingFixture: ResamplingFixture? = {
  let url = fixturesFolder.appendingPathComponent("resampling.json")
  guard let data = try? Data(contentsOf: url) else { return nil }
  return try? JSONDecoder().decode(ResamplingFixture.self, from: data)
}()

@Suite struct ResamplingTests {
  @Test func fixtureIsPresent() throws {
    let fixture = try #require(resamplingFixture)
    #expect(fixture.cases.count == 21 && fixture.rgbCases.count == 6)
  }

  @Test(arguments: resamplingFixture?.cases ?? [])
  func matchesPillowOnFloatImages(_ reference: ResamplingFixture.FloatCase) throws {
    let fixture = try #require(resamplingFixture)
    let filter = try #require(ResamplingFilter(rawValue: reference.filter))
    let resized = fixture.grey.resized(
      width: reference.width, height: reference.height, filter: filter, clampingEachPass: false)
    #expect(resized.width == reference.width && resized.height == reference.height)
    let (close, report) = allClose(resized.pixels, reference.pixels, rtol: 1e-5, atol: 1e-6)
    #expect(close, "\(report)")
  }

  @Test(arguments: resamplingFixture?.rgbCases ?? [])
  func matchesPillowOn8BitRGB(_ reference: ResamplingFixture.RGBCase) throws {
    let fixture = try #require(resamplingFixture)
    let filter = try #require(ResamplingFilter(rawValue: reference.filter))
    let resized = fixture.rgb.resized(
      width: reference.width, height: reference.height, filter: filter)
    #expect(resized.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    let (difference, index) = worstDifference(
      integerSamples(resized).map(Float.init), reference.samples.map(Float.init))
    // Pillow rounds to 8 bits between its passes and chooses their order itself.
    #expect(difference <= 2, "worst difference \(difference) levels at sample \(index)")
  }

  @Test func resizesAlphaWithTheColour() {
    let image = Image(
      width: 4, height: 2, colorChannels: 1, pixels: [Float](repeating: 0.5, count: 8),
      alpha: [0, 0, 1, 1, 0, 0, 1, 1])
    let resized = image.resized(width: 2, height: 1, filter: .bilinear)
    #expect(resized.alpha?.count == 2)
    #expect(resized.pixels == [0.5, 0.5])
    let alpha = resized.alpha ?? []
    #expect(alpha.count == 2 && alpha[0] < 0.5 && alpha[1] > 0.5)
  }
}

@Suite struct GeometryTests {
  @Test func reflectPaddingMatchesNumpy() throws {
    let fixture = try #require(resamplingFixture)
    let pad = fixture.padding
    let padding = Padding(left: pad.left, right: pad.right, top: pad.top, bottom: pad.bottom)
    let padded = fixture.grey.reflectPadded(padding)
    #expect(padded.width == fixture.width + pad.left + pad.right)
    #expect(padded.height == fixture.height + pad.top + pad.bottom)
    #expect(padded.pixels == fixture.padded)
    #expect(padded.removingPadding(padding) == fixture.grey)
  }

  @Test(arguments: [(13, 11, 4), (16, 8, 4), (1, 1, 4), (2, 3, 8), (5, 7, 1)])
  func padsToAMultipleAndCropsBack(_ width: Int, _ height: Int, _ multiple: Int) {
    let pixels = (0..<(3 * width * height)).map { Float($0) / Float(3 * width * height) }
    let image = Image(
      width: width, height: height, colorChannels: 3, pixels: pixels,
      alpha: [Float](repeating: 1, count: width * height))
    let (padded, padding) = image.reflectPadded(toMultipleOf: multiple)
    #expect(padded.width % multiple == 0 && padded.height % multiple == 0)
    #expect(padded.width - width < multiple && padded.height - height < multiple)
    #expect(padded.alpha?.count == padded.width * padded.height)
    #expect(padded.removingPadding(padding) == image)
  }

  @Test func cropsAndFlips() {
    // 3×2 grey: rows [0 1 2] and [3 4 5].
    let image = Image(width: 3, height: 2, colorChannels: 1, pixels: [0, 1, 2, 3, 4, 5])
    #expect(image.cropped(x: 1, y: 0, width: 2, height: 2).pixels == [1, 2, 4, 5])
    #expect(image.cropped(x: 0, y: 1, width: 3, height: 1).pixels == [3, 4, 5])
    #expect(image.flippedHorizontally().pixels == [2, 1, 0, 5, 4, 3])
    #expect(image.flippedVertically().pixels == [3, 4, 5, 0, 1, 2])
  }

  @Test func orientationsMoveTheTopLeftPixelWhereEXIFSays() {
    // 3×2 grey with distinct values; the value 0 starts top-left.
    let image = Image(width: 3, height: 2, colorChannels: 1, pixels: [0, 1, 2, 3, 4, 5])
    let expected: [Int: (width: Int, pixels: [Float])] = [
      1: (3, [0, 1, 2, 3, 4, 5]), 2: (3, [2, 1, 0, 5, 4, 3]), 3: (3, [5, 4, 3, 2, 1, 0]),
      4: (3, [3, 4, 5, 0, 1, 2]), 5: (2, [0, 3, 1, 4, 2, 5]), 6: (2, [3, 0, 4, 1, 5, 2]),
      7: (2, [5, 2, 4, 1, 3, 0]), 8: (2, [2, 5, 1, 4, 0, 3]),
    ]
    for (orientation, (width, pixels)) in expected {
      let turned = image.applyingOrientation(orientation)
      #expect(turned.width == width, "orientation \(orientation)")
      #expect(turned.pixels == pixels, "orientation \(orientation)")
    }
  }
}

@Suite struct TensorConversionTests {
  @Test func rgbImageBecomesATensorInMinusOneToOne() {
    let image = Image(
      width: 2, height: 1, colorChannels: 3, pixels: [0, 1, 0.5, 0.25, 1, 0], alpha: [1, 0])
    let tensor = image.tensor()
    #expect(tensor.shape == [1, 3, 1, 2])
    #expect(tensor.scalars == [-1, 1, 0, -0.5, 1, -1])
    let back = Image(tensor: tensor, alpha: image.alpha)
    #expect(back.pixels == image.pixels && back.alpha == image.alpha)
  }

  @Test func greyAndColourConvertBothWays() {
    let grey = Image(width: 2, height: 1, colorChannels: 1, pixels: [0, 1])
    #expect(grey.tensor(channels: 3).scalars == [-1, 1, -1, 1, -1, 1])
    let rgb = Image(width: 1, height: 1, colorChannels: 3, pixels: [1, 0, 0])
    let luma = rgb.tensor(channels: 1).scalars[0]
    #expect(abs(luma - (0.299 * 2 - 1)) < 1e-6)
  }

  @Test func outOfRangeAndNaNAreClampedOnTheWayBack() {
    let tensor = Tensor(shape: [1, 1, 1, 3], scalars: [-3, 7, .nan])
    #expect(Image(tensor: tensor).pixels == [0, 1, 0.5])
  }
}

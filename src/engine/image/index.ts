/** Image input and output for the DiffEdit engine: decoding uploads, tensors, masks and the posted pictures. */
export type { GrayMask, RgbImage } from './types.js';
export {
  ACCEPTED_FORMATS,
  DEFAULT_MAX_INPUT_PIXELS,
  DEFAULT_MAX_OUTPUT_SIDE,
  decodePicture,
  type DecodedPicture,
  type DecodeOptions,
} from './decode.js';
export { editedPhotos, encodeAttachment, fullSizeAttachment, modelView } from './full-size.js';
export { DEFAULT_MAX_RESULT_BYTES, PHOTO_EXTENSION, type EncodedPhoto, type PhotoFormat } from './output-photo.js';
export { modelDimensions } from './dimensions.js';
export { imageToTensor, tensorToImage } from './tensor.js';
export { MASK_ON, maskCoverage, upscaleMask } from './mask.js';
export { maskOverlay } from './overlay.js';
export { CAPTION_HEIGHT } from './caption.js';
export { encodePng, PANEL_GUTTER, pngWithin, renderCandidates, renderMaskImage, renderPanel, type PanelCaptions } from './render.js';

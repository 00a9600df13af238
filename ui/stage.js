// stage.js: the video view's window modes, fullscreen and picture-in-picture, each asked of
// the browser and refused quietly (a refusal is logged, never shown: the button stays usable).

/** Fullscreen on or off for the video view `stage` (`show` makes it visible first). */
export async function toggleFullscreen(stage, show) {
  try {
    if (document.fullscreenElement) await document.exitFullscreen();
    else {
      show();
      await stage.requestFullscreen();
    }
  } catch (err) {
    console.warn('fullscreen refused', err);
  }
}

/** Picture-in-picture on or off for `media`. */
export async function togglePip(media) {
  try {
    if (document.pictureInPictureElement) await document.exitPictureInPicture();
    else await media.requestPictureInPicture();
  } catch (err) {
    console.warn('picture-in-picture refused', err);
  }
}

/** True when picture-in-picture is not available here (the button is marked at start). */
export function pipUnsupported(pipButton) {
  return pipButton.dataset.unsupported === 'true';
}

// The Date response header, formatted at most once per second (HTTP dates have one-second resolution).

let cachedSecond = -1;
let cachedLine = '';

/** 'Date: <IMF-fixdate>\r\n' for the second `now` falls in. */
export function dateHeaderLine(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedLine = 'Date: ' + new Date(second * 1000).toUTCString() + '\r\n';
  }
  return cachedLine;
}

import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../engine/config.ts';

describe('MAP_STYLE_URL', () => {
  it('is unset by default: the pages use the offline fallback', () => {
    expect(loadConfig({}).MAP_STYLE_URL).toBeUndefined();
  });

  it('takes an http(s) URL of a style', () => {
    expect(loadConfig({ MAP_STYLE_URL: 'https://tiles.example/styles/city.json' }).MAP_STYLE_URL).toBe(
      'https://tiles.example/styles/city.json',
    );
  });

  it('refuses anything else, naming the variable and the value', () => {
    expect(() => loadConfig({ MAP_STYLE_URL: 'file:///etc/passwd' })).toThrow(
      /MAP_STYLE_URL="file:\/\/\/etc\/passwd": must be a URL with scheme http:\/\/ or https:\/\//,
    );
    expect(() => loadConfig({ MAP_STYLE_URL: 'tiles' })).toThrow(/MAP_STYLE_URL/);
  });
});

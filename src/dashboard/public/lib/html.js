// htm turns tagged templates into Preact elements, so the pages need no build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

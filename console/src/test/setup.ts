import { afterAll, afterEach, vi } from "vitest";
import { cleanup, configure } from "@testing-library/react";
import { setCsrfToken, setUnauthorizedHandler, setWorkspaceId } from "../api/state";
import { clearRenderedClients } from "./clients";

// Pages are lazy chunks: their first import in a test run takes a few seconds.
configure({ asyncUtilTimeout: 10_000 });

// What jsdom lacks and antd or the console use.
if (!window.matchMedia) {
  Object.defineProperty(window, "matchMedia", {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}

class NoIntersectionObserver {
  readonly root = null;
  readonly rootMargin = "";
  readonly thresholds = [];
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
if (!("IntersectionObserver" in window)) {
  Object.defineProperty(window, "IntersectionObserver", { writable: true, value: NoIntersectionObserver });
  Object.defineProperty(globalThis, "IntersectionObserver", { writable: true, value: NoIntersectionObserver });
}

class NoResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
if (!("ResizeObserver" in window)) {
  Object.defineProperty(window, "ResizeObserver", { writable: true, value: NoResizeObserver });
  Object.defineProperty(globalThis, "ResizeObserver", { writable: true, value: NoResizeObserver });
}

// jsdom does not compute pseudo-element styles (antd asks for scrollbar sizes).
const computed = window.getComputedStyle.bind(window);
window.getComputedStyle = (element: Element, pseudo?: string | null) => computed(element, pseudo ? undefined : pseudo);

afterEach(() => {
  cleanup();
  clearRenderedClients();
  setCsrfToken(null);
  setWorkspaceId(null);
  setUnauthorizedHandler(null);
  window.localStorage.clear();
  vi.unstubAllGlobals();
});

// Let work React or antd already scheduled (a macrotask) run while the page still exists.
afterAll(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * Loads data with `load()` when `deps` change and, with `everyMs`, again on that interval
 * (skipped while the tab is hidden). Keeps the last good data while reloading.
 */
export function useData(load, deps = [], everyMs = 0) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);

  useEffect(() => {
    reload();
    if (!everyMs) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);

  return { ...state, reload };
}

/** A value kept in localStorage (small UI preferences such as the last project looked at). */
export function useStoredValue(name, initial) {
  const key = `koor.${name}`;
  const [value, setValue] = useState(() => localStorage.getItem(key) ?? initial);
  const update = useCallback((next) => {
    localStorage.setItem(key, next);
    setValue(next);
  }, [key]);
  return [value, update];
}

/** Runs an action, tracking busy state and its error/result message for display. */
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, message: '' });
  const run = useCallback(async (action, successMessage) => {
    setState({ busy: true, error: null, message: '' });
    try {
      const result = await action();
      const message = typeof successMessage === 'function' ? successMessage(result) : successMessage ?? '';
      setState({ busy: false, error: null, message });
      return result;
    } catch (error) {
      setState({ busy: false, error, message: '' });
      return undefined;
    }
  }, []);
  const clear = useCallback(() => setState({ busy: false, error: null, message: '' }), []);
  return { ...state, run, clear, setError: (error) => setState({ busy: false, error, message: '' }) };
}

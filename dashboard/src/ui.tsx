import { useId } from 'react';

type FieldProps = {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  type?: string;
  hint?: string;
  /** Shown under the input, announced, and marks the input invalid. */
  error?: string | null;
} & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value' | 'name' | 'type'>;

/** A labelled input, its hint tied to it for screen readers. */
export function Field({ label, name, value, onChange, type = 'text', hint, error, ...rest }: FieldProps) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={described || undefined} aria-invalid={error ? true : undefined} {...rest} />
      {hint && (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function FormError({ message }: { message: string | null }) {
  return message ? (
    <p role="alert" className="error">
      {message}
    </p>
  ) : null;
}

/** A screen's data could not be loaded: the reason, announced, and a way to try again. */
export function LoadError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div className="card">
      <p role="alert" className="error">
        {message}
      </p>
      <button type="button" className="button" onClick={onRetry} style={{ marginTop: '0.75rem' }}>
        Try again
      </button>
    </div>
  );
}

/** Up to two initials for an avatar, from the words that start with a letter ("Jane (widget)" → "J", "Customer 0999" → "C"). */
export function initials(name: string): string {
  const words = name.split(/\s+/).filter((w) => /^\p{L}/u.test(w));
  return words.slice(0, 2).map((w) => [...w][0]!.toUpperCase()).join('') || '?';
}

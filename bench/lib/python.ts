import { existsSync } from 'node:fs';

/**
 * The python3 that has Debian's python3-torch, python3-flask...: PYTHON if set, else the system
 * /usr/bin/python3 (a pyenv or venv python3 first on PATH would not see Debian's packages).
 */
export function systemPython(): string {
  return process.env.PYTHON?.trim() || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

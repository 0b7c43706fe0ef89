// Container names: Docker's rule, and generated "adjective_name" defaults.
import { randomInt } from 'node:crypto';
import { invalidArgument } from '../../errors';

export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!NAME_RE.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

const LEFT = ['admiring', 'bold', 'brave', 'calm', 'clever', 'eager', 'elastic', 'festive', 'gallant', 'happy', 'jolly', 'keen', 'loving', 'modest', 'nifty', 'quirky', 'serene', 'sharp', 'stoic', 'tender', 'vibrant', 'wizardly', 'youthful', 'zealous'];
const RIGHT = ['albattani', 'babbage', 'bohr', 'curie', 'darwin', 'einstein', 'euler', 'fermat', 'galileo', 'hopper', 'hypatia', 'kepler', 'lamarr', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'tesla', 'thompson', 'turing', 'wozniak'];

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    let n = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
    if (i > 10) n += randomInt(100);
    if (!taken(`/${n}`)) return `/${n}`;
  }
}

/**
 * Specializations as bits: the first 32 names the fleet meets get a bit of the spatial index's tag mask, so a
 * specialization filter is a mask test on typed arrays. Names past 32 "overflow": kept per doctor in a map and
 * filtered by a predicate (slower, meant for rare names).
 */
import { MAX_TAGGED_SPECIALIZATIONS } from './fleet-types.ts';

/** The index filter parts for a set of required specializations. */
export interface SpecializationFilter {
  /** Bits every matching doctor has. */
  tagsAll: number;
  /** Overflow names every matching doctor has; needs a predicate. */
  overflowNames: string[];
}

export class SpecializationRegistry {
  private readonly bits = new Map<string, number>();
  private readonly names: string[] = [];
  /** Overflow names per doctor id, and how many doctors have each. */
  private readonly overflow = new Map<string, string[]>();
  private readonly overflowCounts = new Map<string, number>();
  /** Frozen name lists per tag mask (bits never change meaning, so entries never go stale). */
  private readonly listsByTags = new Map<number, readonly string[]>();

  /** Names with a bit, in bit order. */
  get taggedNames(): readonly string[] {
    return this.names;
  }

  /**
   * The overflow names of every doctor that has some, by doctor id, for a bulk copy (engine/fleet-capture.ts). The
   * registry's own map and lists, not copies: read only for the caller, valid until the next change of the registry.
   */
  overflowByDoctor(): ReadonlyMap<string, string[]> {
    return this.overflow;
  }

  /** Gives the names bits 0, 1, … in order (restoring a snapshot); the registry must be empty. */
  restoreTaggedNames(names: readonly string[]): void {
    for (const name of names) this.bitOf(name);
  }

  /**
   * Sets a doctor's specializations: returns the tag mask of the tagged ones and records the overflow ones
   * (replacing any recorded before).
   */
  assign(doctorId: string, names: readonly string[]): number {
    let tags = 0;
    const extra: string[] = [];
    for (const name of new Set(names)) {
      const bit = this.bitOf(name);
      if (bit === undefined) extra.push(name);
      else tags = (tags | (1 << bit)) >>> 0;
    }
    this.forget(doctorId);
    if (extra.length > 0) this.setOverflow(doctorId, extra);
    return tags;
  }

  /** Records overflow names of a doctor as they were (restoring a snapshot). */
  setOverflow(doctorId: string, names: string[]): void {
    this.overflow.set(doctorId, names);
    for (const name of names) this.overflowCounts.set(name, (this.overflowCounts.get(name) ?? 0) + 1);
  }

  /** Overflow names of a doctor, if any. */
  overflowOf(doctorId: string): string[] | undefined {
    return this.overflow.size === 0 ? undefined : this.overflow.get(doctorId);
  }

  /** Forgets a doctor's overflow names. */
  forget(doctorId: string): void {
    const names = this.overflow.get(doctorId);
    if (names === undefined) return;
    this.overflow.delete(doctorId);
    for (const name of names) {
      const left = (this.overflowCounts.get(name) ?? 1) - 1;
      if (left === 0) this.overflowCounts.delete(name);
      else this.overflowCounts.set(name, left);
    }
  }

  /** Every name of a doctor with these tags: tagged names in bit order, then overflow names. Frozen. */
  namesOf(doctorId: string, tags: number): readonly string[] {
    let tagged = this.listsByTags.get(tags);
    if (tagged === undefined) {
      const names: string[] = [];
      for (let bit = 0; bit < this.names.length; bit++)
        if ((tags >>> bit) & 1) names.push(this.names[bit] as string);
      tagged = Object.freeze(names);
      this.listsByTags.set(tags, tagged);
    }
    const extra = this.overflowOf(doctorId);
    return extra === undefined ? tagged : Object.freeze([...tagged, ...extra]);
  }

  /** The filter for doctors having every one of `names`, or undefined when no doctor can have them all. */
  filterFor(names: readonly string[]): SpecializationFilter | undefined {
    let tagsAll = 0;
    const overflowNames: string[] = [];
    for (const name of names) {
      const bit = this.bits.get(name);
      if (bit !== undefined) tagsAll = (tagsAll | (1 << bit)) >>> 0;
      else if (this.overflowCounts.has(name)) overflowNames.push(name);
      else return undefined;
    }
    return { tagsAll, overflowNames };
  }

  /** A predicate accepting doctors whose overflow names include all of `names`. */
  overflowPredicate(names: readonly string[]): (doctorId: string) => boolean {
    return (doctorId) => {
      const own = this.overflow.get(doctorId);
      return own !== undefined && names.every((name) => own.includes(name));
    };
  }

  private bitOf(name: string): number | undefined {
    let bit = this.bits.get(name);
    if (bit === undefined && this.names.length < MAX_TAGGED_SPECIALIZATIONS) {
      bit = this.names.length;
      this.names.push(name);
      this.bits.set(name, bit);
    }
    return bit;
  }
}

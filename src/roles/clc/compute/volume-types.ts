/** EC2's volume types; every one is the same kind of volume here. */
export const VOLUME_TYPES = ["standard", "gp2", "gp3", "io1", "io2", "st1", "sc1"] as const;
